"""The catalogue: users, sites and the images captured of them."""
