"""Tests for the store package."""
