"""`qixian web user ...` and `qixian web` as ops run them."""

import io

from qixian.cli import main
from qixian.legaltime.localtime import parse_local
from qixian.web.auth import check_password, trusted_proxies
from tests.paths import ROOT


def test_set_password_list_and_remove(store, monkeypatch, capsys):
    url = store.engine.url.render_as_string(hide_password=False)
    assert main(["directory", "load", str(ROOT / "notify" / "directory.yaml"), "--db", url]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("a good password 1\n"))
    assert main(["web", "user", "set-password", "officer-7", "--password-stdin", "--db", url]) == 0
    assert check_password("a good password 1", store.password_hash("officer-7"))
    assert not check_password("a good password 2", store.password_hash("officer-7"))
    assert main(["web", "user", "list", "--db", url]) == 0
    listed = capsys.readouterr().out
    assert "法制部门" in listed and "从未登录" in listed
    store.record_sign_in("officer-7", "127.0.0.1", True, parse_local("2025-10-07 08:15"))
    store.record_sign_in("officer-7", "127.0.0.1", False, parse_local("2025-10-07 09:00"))  # a failure is not a sign-in
    assert main(["web", "user", "list", "--db", url]) == 0
    assert "2025-10-07 08:15" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("1234567890123\n"))
    assert main(["web", "user", "set-password", "officer-1", "--password-stdin", "--db", url]) == 2
    assert "只有数字" in capsys.readouterr().err and store.password_hash("officer-1") is None
    assert main(["web", "user", "set-password", "officer-404", "--password-stdin", "--db", url]) == 2
    assert "名录中没有民警 officer-404" in capsys.readouterr().err
    assert main(["web", "user", "remove", "officer-7", "--db", url]) == 0 and store.password_hash("officer-7") is None


def test_the_dashboard_does_not_start_without_a_secret_key(store, monkeypatch, capsys):
    monkeypatch.delenv("QIXIAN_WEB_SECRET", raising=False)
    url = store.engine.url.render_as_string(hide_password=False)
    assert main(["web", "--db", url, "--port", "1"]) == 2
    assert "QIXIAN_WEB_SECRET" in capsys.readouterr().err


def test_trusted_proxies_come_from_the_option_or_the_environment_and_must_be_addresses(store, monkeypatch, capsys):
    monkeypatch.setenv("QIXIAN_WEB_SECRET", "test-secret-" + "x" * 40)
    monkeypatch.setenv("QIXIAN_TRUSTED_PROXIES", " 10.0.0.0/24, ::1 ,")
    assert trusted_proxies() == ("10.0.0.0/24", "::1")
    assert trusted_proxies(["127.0.0.1"]) == ("127.0.0.1",)  # the option wins over the environment
    monkeypatch.delenv("QIXIAN_TRUSTED_PROXIES")
    assert trusted_proxies() == ()  # none by default
    url = store.engine.url.render_as_string(hide_password=False)
    assert main(["web", "--db", url, "--port", "1", "--trusted-proxy", "127.0.0.1", "--trusted-proxy", "nginx"]) == 2
    assert "受信任的反向代理 'nginx' 不是 IP 地址或网段" in capsys.readouterr().err
    monkeypatch.setenv("QIXIAN_TRUSTED_PROXIES", "10.0.0.0/33")
    assert main(["web", "--db", url, "--port", "1"]) == 2
    assert "QIXIAN_TRUSTED_PROXIES" in capsys.readouterr().err
