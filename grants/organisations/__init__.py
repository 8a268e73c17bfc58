"""Organisation profiles and the people who act for them."""
