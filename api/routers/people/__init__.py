"""Routes of people: users, their contact methods and notification rules, teams, API tokens."""
