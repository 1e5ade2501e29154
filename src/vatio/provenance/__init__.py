"""Run provenance: the manifest that lets a run be repeated and audited."""
