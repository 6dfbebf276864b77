"""planner: joint demand-supply planning."""
