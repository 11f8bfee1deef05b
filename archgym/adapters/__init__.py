"""Adapters that put archgym's envs in other libraries' own terms (pymoo). Each imports its
library only when used."""
