"""The dashboard (期限看板): `qixian.web.app.create_app(store, pack, secret=...)` gives the web app that `qixian web`
serves. Nothing is imported here, so the sign-in policy in `qixian.web.auth` is read (by health) without the web
framework."""
