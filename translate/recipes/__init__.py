"""Training recipes: what one optimisation step of each family does."""
