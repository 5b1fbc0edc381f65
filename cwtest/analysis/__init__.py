"""Statistics and figures over reports and trial tables: equivalence of repeated trainings, mutual
information, plots."""
