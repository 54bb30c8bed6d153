// The local microphone and camera: getUserMedia, mute (the track keeps its place but sends
// silence: track.enabled = false), camera on and off, and errors a person can act on.
import { english } from "./texts.js";

export class MediaError extends Error {
  constructor(message, name = "MediaError") {
    super(message);
    this.name = name;
  }
}

// a sentence for a getUserMedia failure; device: "microphone" | "camera"; text: the
// translator for call/texts.js's keys (English by default)
export function mediaErrorText(err, device = "microphone", text = english) {
  const name = err && err.name;
  const thing = text(device === "camera" ? "device_camera" : "device_microphone");
  const Thing = thing.charAt(0).toUpperCase() + thing.slice(1);
  switch (name) {
    case "NotAllowedError":
    case "PermissionDeniedError":
    case "SecurityError":
      return text("media_blocked", { device: thing, Device: Thing });
    case "NotFoundError":
    case "DevicesNotFoundError":
    case "OverconstrainedError":
      return text("media_missing", { device: thing, Device: Thing });
    case "NotReadableError":
    case "TrackStartError":
    case "AbortError":
      return text("media_busy", { device: thing, Device: Thing });
    case "Insecure":
      return text("media_insecure");
    default:
      return text("media_failed", { device: thing, Device: Thing }) + (err && err.message ? ` (${err.message})` : "");
  }
}

function getUserMedia(constraints) {
  const devices = typeof navigator !== "undefined" && navigator.mediaDevices;
  if (!devices || typeof devices.getUserMedia !== "function") {
    return Promise.reject(new MediaError("no mediaDevices", "Insecure"));
  }
  return devices.getUserMedia(constraints);
}

const VIDEO = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24 } };

export function createMedia() {
  let audio = null;
  let video = null;
  let muted = false;

  return {
    get audio() {
      return audio;
    },
    get video() {
      return video;
    },
    get muted() {
      return muted;
    },
    get camera() {
      return !!video;
    },

    // the microphone (required) and, if asked, the camera (optional: the call goes on
    // without it). Resolves {cameraError}; rejects with the microphone's error.
    async open({ camera = false } = {}) {
      if (!audio || audio.readyState === "ended") {
        const stream = await getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
        audio = stream.getAudioTracks()[0] || null;
        if (!audio) throw new MediaError("no audio track", "NotFoundError");
        audio.enabled = !muted;
      }
      let cameraError = null;
      if (camera && !video) {
        try {
          await this.cameraOn();
        } catch (err) {
          cameraError = err;
        }
      }
      return { cameraError };
    },

    setMuted(value) {
      muted = !!value;
      if (audio) audio.enabled = !muted;
      return muted;
    },

    async cameraOn() {
      if (video && video.readyState !== "ended") return video;
      const stream = await getUserMedia({ video: VIDEO });
      video = stream.getVideoTracks()[0] || null;
      if (!video) throw new MediaError("no video track", "NotFoundError");
      return video;
    },

    cameraOff() {
      if (video) video.stop();
      video = null;
    },

    close() {
      for (const track of [audio, video]) if (track) track.stop();
      audio = video = null;
    },
  };
}
