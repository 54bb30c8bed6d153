"""Several processes are asked for with redis_url; a setting that cannot work is refused
with a sentence saying why, and without it nothing of the cluster runs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from dcs_sdk.exceptions import ConfigError
from signaling_server import Config, create_app
from signaling_server.app import SIO
from signaling_server.cluster import IndexedRedisManager, check
from signaling_server.rooms import IndexedAsyncManager

PG = "postgresql+asyncpg://dcs@127.0.0.1/dcs"


def test_redis_url_must_be_redis_and_the_database_postgresql(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a Redis URL"):
        check(Config(data_dir=str(tmp_path), redis_url="http://127.0.0.1:6379", database_url=PG))
    with pytest.raises(ConfigError, match="share one PostgreSQL database"):
        check(Config(data_dir=str(tmp_path), redis_url="redis://127.0.0.1:6379/0"))
    check(Config(data_dir=str(tmp_path), redis_url="redis://127.0.0.1:6379/0", database_url=PG))


def test_one_process_by_default_several_with_redis(server_config: Config) -> None:
    alone = create_app(server_config)
    assert type(alone[SIO].manager) is IndexedAsyncManager
    with pytest.raises(ConfigError, match="share one PostgreSQL database"):
        create_app(replace(server_config, redis_url="redis://127.0.0.1:6379/0"))
    shared = create_app(replace(server_config, redis_url="redis://127.0.0.1:6379/0", database_url=PG))
    manager = shared[SIO].manager
    assert isinstance(manager, IndexedRedisManager) and manager.channel == "dcs:sio"
