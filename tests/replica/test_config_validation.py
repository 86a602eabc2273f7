"""Configurations are validated by type and sign as well as by the OmniPaxos rules.

The Rust fields are unsigned integers; Python lets a learner type ``-1``, ``2.5``, ``"5"``, ``True``
or a pid twice. Each must be a ``ConfigError.InvalidConfig`` that names the field and says what to
write, in `ServerConfig`, `ClusterConfig` and `OmniPaxosConfig.with_toml` (which also refuses unknown
keys and sections that are not tables, naming the file and the key).
"""

from __future__ import annotations

import pytest

from omnilab.replica.config import ClusterConfig, FlexibleQuorum, OmniPaxosConfig, ServerConfig
from omnilab.replica.errors import ConfigError
from omnilab.replica.storage import MemoryStorage


def invalid(call) -> ConfigError:
    with pytest.raises(ConfigError.InvalidConfig) as info:
        call()
    return info.value


@pytest.mark.parametrize("field, value, phrase", [
    ("pid", -1, "Server pid must be positive"),
    ("pid", 1.0, "Server pid must be an integer"),
    ("pid", "1", "Server pid must be an integer"),
    ("pid", True, "Server pid must be an integer"),
    ("pid", None, "Server pid must be an integer"),
    ("buffer_size", -5, "Buffer size must be greater than 0"),
    ("buffer_size", 10.5, "Buffer size must be an integer"),
    ("batch_size", -1, "Batch size must be greater than 0"),
    ("batch_size", "5", "Batch size must be an integer"),
    ("batch_size", 2.0, "Batch size must be an integer"),
    ("election_tick_timeout", -1, "Election tick timeout must be greater than 0"),
    ("election_tick_timeout", 0.5, "Election tick timeout must be an integer"),
    ("election_tick_timeout", None, "Election tick timeout must be an integer"),
    ("resend_message_tick_timeout", -100, "Resend message tick timeout must be greater than 0"),
    ("resend_message_tick_timeout", "100", "Resend message tick timeout must be an integer"),
    ("flush_batch_tick_timeout", -1, "Flush batch tick timeout cannot be negative"),
    ("flush_batch_tick_timeout", 1.5, "Flush batch tick timeout must be an integer"),
    ("leader_priority", -1, "Leader priority must be an integer >= 0"),
    ("leader_priority", "high", "Leader priority must be an integer >= 0"),
])
def test_server_config_fields_are_checked_for_type_and_sign(field, value, phrase):
    fields = {"pid": 1, field: value}
    err = invalid(ServerConfig(**fields).validate)
    assert err.msg == phrase
    assert err.field == field
    assert field in str(err) and repr(value) in str(err)  # names the field and echoes the value


def test_the_reference_rule_for_zero_keeps_its_message_and_its_order():
    err = invalid(ServerConfig(pid=1, batch_size=0, election_tick_timeout=-1).validate)
    assert err.msg == "Batch size must be greater than 0"
    err = invalid(ServerConfig(pid=1, buffer_size=-1, batch_size="x").validate)
    assert err.msg == "Buffer size must be greater than 0"


def test_zero_flush_timeout_still_means_never_and_big_values_pass():
    assert ServerConfig(pid=1, flush_batch_tick_timeout=0).validate() is None
    assert ServerConfig(pid=7, election_tick_timeout=10**6, batch_size=10**4, leader_priority=3).validate() is None


@pytest.mark.parametrize("cc, phrase, field", [
    (ClusterConfig(1, 3), "Nodes must be a list of pids", "nodes"),
    (ClusterConfig(1, "123"), "Nodes must be a list of pids", "nodes"),
    (ClusterConfig(1, {1, 2, 3}), "Nodes must be a list of pids", "nodes"),
    (ClusterConfig(1, None), "Nodes must be a list of pids", "nodes"),
    (ClusterConfig(1, [1, 1, 2]), "Nodes must not list a pid twice", "nodes"),
    (ClusterConfig(1, [1, 2, 2, 3, 3]), "Nodes must not list a pid twice", "nodes"),
    (ClusterConfig(1, [0, 1, 2]), "Every pid in nodes must be a positive integer", "nodes"),
    (ClusterConfig(1, [-1, 1, 2]), "Every pid in nodes must be a positive integer", "nodes"),
    (ClusterConfig(1, [1, 2.0, 3]), "Every pid in nodes must be a positive integer", "nodes"),
    (ClusterConfig(1, ["1", "2"]), "Every pid in nodes must be a positive integer", "nodes"),
    (ClusterConfig(1, [1, True]), "Every pid in nodes must be a positive integer", "nodes"),
    (ClusterConfig(-1, [1, 2]), "Configuration ID must be positive", "configuration_id"),
    (ClusterConfig(1.0, [1, 2]), "Configuration ID must be an integer", "configuration_id"),
    (ClusterConfig("2", [1, 2]), "Configuration ID must be an integer", "configuration_id"),
    (ClusterConfig(1, [1, 2, 3], (2, 2)), "flexible_quorum must be a FlexibleQuorum or None", "flexible_quorum"),
    (ClusterConfig(1, [1, 2, 3], FlexibleQuorum(2.5, 2)), "Quorum sizes must be integers",
     "flexible_quorum.read_quorum_size"),
])
def test_cluster_config_is_checked_for_type_sign_and_duplicates(cc, phrase, field):
    err = invalid(cc.validate)
    assert err.msg == phrase
    assert err.field == field
    hash(cc)  # a refused configuration can still be printed, compared and hashed


def test_a_tuple_or_range_of_nodes_is_a_list():
    assert ClusterConfig(1, (1, 2, 3)) == ClusterConfig(1, range(1, 4)) == ClusterConfig(1, [1, 2, 3])
    ClusterConfig(1, range(1, 4)).validate()


def test_build_refuses_before_touching_storage():
    storage = MemoryStorage()
    with pytest.raises(ConfigError.InvalidConfig, match="twice"):
        ClusterConfig(1, [1, 2, 2]).build_for_server(ServerConfig(pid=1), storage)
    with pytest.raises(ConfigError.InvalidConfig, match="Election tick timeout"):
        ClusterConfig(1, [1, 2]).build_for_server(ServerConfig(pid=1, election_tick_timeout=-1), storage)
    assert storage.get_promise() is None


# --- with_toml ------------------------------------------------------------------------------------

GOOD = "[cluster_config]\nconfiguration_id = 1\nnodes = [1, 2, 3]\n\n[server_config]\npid = 2\n"


def toml(tmp_path, text, name="node.toml"):
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


@pytest.mark.parametrize("text, phrase", [
    (GOOD + "colour = 'red'\n", "unknown key 'colour' in [server_config]"),
    ("cluster = 3\n" + GOOD, "unknown key 'cluster' in the top level"),
    (GOOD + "[logging]\nlevel = 1\n", "unknown key 'logging' in the top level"),
    ("cluster_config = 3\n", "cluster_config must be a table"),
    ("server_config = [1, 2]\n", "server_config must be a table"),
    ("[cluster_config]\nconfiguration_id = 1\nnodes = [1, 2, 3]\nflexible_quorum = 3\n",
     "flexible_quorum must be a table"),
    ("[cluster_config]\nconfiguration_id = 1\nnodes = [1, 2, 3]\nflexible_quorum = { read_quorum_size = 2 }\n",
     "flexible_quorum lacks write_quorum_size"),
    ("[cluster_config]\nconfiguration_id = 1\nnodes = [1, 2, 3]\n"
     "flexible_quorum = { read_quorum_size = 2, write_quorum_size = 2, extra = 1 }\n",
     "unknown key 'extra' in [cluster_config.flexible_quorum]"),
    (b"[cluster_config]\nnodes = [1, 2]\n# \xff\xfe not utf-8\n", "is not UTF-8 text"),
])
def test_with_toml_refuses_unknown_keys_and_non_tables_naming_file_and_key(tmp_path, text, phrase):
    path = toml(tmp_path, text)
    with pytest.raises(ConfigError.Parse) as info:
        OmniPaxosConfig.with_toml(path)
    assert phrase in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("text, msg, where", [
    (GOOD.replace("pid = 2", "pid = -2"), "Server pid must be positive", "[server_config] pid"),
    (GOOD.replace("pid = 2", "pid = \"2\""), "Server pid must be an integer", "[server_config] pid"),
    (GOOD + "election_tick_timeout = 0.5\n", "Election tick timeout must be an integer",
     "[server_config] election_tick_timeout"),
    (GOOD + "batch_size = -3\n", "Batch size must be greater than 0", "[server_config] batch_size"),
    (GOOD.replace("[1, 2, 3]", "[1, 2, 2, 3]"), "Nodes must not list a pid twice", "[cluster_config] nodes"),
    (GOOD.replace("[1, 2, 3]", "\"1,2,3\""), "Nodes must be a list of pids", "[cluster_config] nodes"),
    (GOOD.replace("pid = 2", "pid = 9"), "Nodes must include own server pid", "[cluster_config] nodes"),
])
def test_with_toml_values_fail_validation_naming_file_and_key(tmp_path, text, msg, where):
    path = toml(tmp_path, text)
    err = invalid(lambda: OmniPaxosConfig.with_toml(path))
    assert err.msg == msg
    assert f"{path}, {where}" in str(err)


@pytest.mark.parametrize("bad", [None, 3, ["node.toml"]])
def test_with_toml_of_something_that_is_not_a_path(bad):
    with pytest.raises(ConfigError.ReadFile, match="path of a TOML file"):
        OmniPaxosConfig.with_toml(bad)


def test_with_toml_of_a_folder_is_a_read_error(tmp_path):
    with pytest.raises(ConfigError.ReadFile) as info:
        OmniPaxosConfig.with_toml(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_with_toml_ignores_only_the_reference_logger_key(tmp_path):
    cfg = OmniPaxosConfig.with_toml(toml(tmp_path, GOOD + "logger_file_path = \"logs/p.log\"\n"))
    assert cfg.server_config == ServerConfig(pid=2)
