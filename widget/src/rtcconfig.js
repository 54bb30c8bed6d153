// The RTCConfiguration in rtc.config's ack: the ICE servers (STUN, and TURN with the REST
// credentials the server minted for this participant) and the transport policy. Calls and
// co-browse's data channel both connect with it. Only known fields are copied over.
export function rtcConfiguration(ack) {
  const servers = Array.isArray(ack.ice_servers) ? ack.ice_servers : [];
  return {
    iceServers: servers.map((s) => {
      const server = { urls: s.urls };
      if (s.username) server.username = s.username;
      if (s.credential) server.credential = s.credential;
      return server;
    }),
    iceTransportPolicy: ack.ice_transport_policy === "relay" ? "relay" : "all",
  };
}
