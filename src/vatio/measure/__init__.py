"""Energy measurement: sampler, timeline, attribution, tracker, results."""
