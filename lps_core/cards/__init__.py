"""Cards and card products: numbers, types, status, PINs, stored value, uses and credit lines."""
