"""The kernel side: clients that reach a server over HTTP. Never imports the server side."""
