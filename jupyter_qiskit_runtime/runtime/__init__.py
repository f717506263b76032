"""The runtime: backend catalog, job store, scheduler and tokens. No Tornado here."""
