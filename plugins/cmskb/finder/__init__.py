"""Plan finder: the cheapest support purchases for a customer's need."""
