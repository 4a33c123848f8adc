"""Use cases between the store and the front ends."""
