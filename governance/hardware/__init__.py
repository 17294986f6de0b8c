"""Hardware fit: how much memory a model needs at each quantization, and which machines hold it.

Pure computations (no I/O, no database): ``models`` holds the value types and the table of
llama.cpp's measured bits per weight, ``service`` the arithmetic, ``profiles`` the parsing of
memory sizes and of ``MODELGOV_HARDWARE_PROFILES``, ``gguf`` the reading of GGUF file names.
"""
