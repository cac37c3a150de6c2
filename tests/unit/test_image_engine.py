"""The private Docker daemon's command line: its own paths, and no change to the host's network."""

from __future__ import annotations

from pathlib import Path

from wms_connector.image.engine import dockerd_argv, private_paths


def test_a_private_daemon_keeps_everything_under_its_state_dir_and_leaves_the_network_alone() -> None:
    state = Path("/work/x/.state/docker")
    paths = private_paths(state)
    assert {key: str(path) for key, path in paths.items()} == {
        "socket": "/work/x/.state/docker/docker.sock",
        "data": "/work/x/.state/docker/data",
        "exec": "/work/x/.state/docker/exec",
        "pidfile": "/work/x/.state/docker/docker.pid",
        "log": "/work/x/.state/docker/dockerd.log",
    }
    argv = dockerd_argv(paths, "wms-abc")
    assert argv[0] == "dockerd"
    for flag in (
        "--bridge=none",
        "--iptables=false",
        "--ip-forward=false",
        "--ip-masq=false",
        "--ip6tables=false",
    ):
        assert flag in argv
    assert "--host=unix:///work/x/.state/docker/docker.sock" in argv
    assert "--containerd-namespace=wms-abc" in argv


def test_a_deep_checkout_moves_only_the_sockets_to_a_short_path() -> None:
    state = Path("/" + "d" * 80) / ".state" / "docker"
    paths = private_paths(state)
    assert len(str(paths["socket"])) < 100 and str(paths["exec"]).startswith("/tmp/wms-docker-")
    assert paths["data"] == state / "data" and paths["pidfile"] == state / "docker.pid"
    assert private_paths(state) == paths  # the same checkout always gets the same short path
