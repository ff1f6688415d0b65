"""Provider adapters: translation only (sans-I/O). See ``base`` for the interface."""
