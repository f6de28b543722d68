"""Routes of people: users (with their contact methods and notification rules), teams, API
tokens."""
