"""A demo shop: a few pages with the DCS widget, and the token backend a real site would run."""
