"""Export: the film to a file as a job with progress, and the edit for editors."""
