"""The WebDAV edge: WsgiDAV providers, resources and request handling for Grove."""
