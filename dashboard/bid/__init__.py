"""The Bid page's sections (the page itself is dashboard/views/bid.py): the money (money.py) and
each benefit against its profile and its counterfactual (benefits.py)."""
