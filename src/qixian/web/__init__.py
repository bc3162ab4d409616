"""The dashboard (期限看板): `create_app(store, pack, secret=...)` gives the web app that `qixian web` serves."""

from qixian.web.app import create_app

__all__ = ["create_app"]
