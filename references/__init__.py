"""Reference requests for sales: boundaries, candidate matching, asks, survey imports."""
