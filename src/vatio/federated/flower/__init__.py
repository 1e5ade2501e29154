"""Everything that imports Flower: the hosts, the warm executor, the client mod, the server hook
and the bundled example's apps. Load only after `env.flower_version()` has checked the install."""
