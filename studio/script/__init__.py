"""From screenplay to shots: the Fountain parser and the shot planner."""
