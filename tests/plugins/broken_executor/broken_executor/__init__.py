"""A plug-in that cannot be imported: the server logs it and skips it."""

raise RuntimeError("this executor plug-in is broken on purpose")
