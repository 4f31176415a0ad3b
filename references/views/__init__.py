"""The reference process on the web: sales, managers, owners and advocates."""
