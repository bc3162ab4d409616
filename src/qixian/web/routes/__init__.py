"""The dashboard's routes, one module per part of the site, each built over the shared Site (qixian.web.site)."""
