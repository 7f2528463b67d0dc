"""How the window meets its surroundings: the desktop (launcher, icon, name), its logs, the
interpreter it runs in, and waiting for it to settle."""
