"""How the processes live: the heap frozen after start-up, background threads given way to
HTTP workers, and workers bound to the life of `serve`."""
