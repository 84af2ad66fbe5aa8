//! Reading a definition directory from disk (the shell side of loading).
