"""Points expiry: policies, the expiry job and warnings before points expire."""
