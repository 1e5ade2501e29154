"""Grid carbon intensity and carbon accounting."""
