"""Staff operators: accounts that sign in to the web screens."""
