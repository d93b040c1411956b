import ctypes

libggml: ctypes.CDLL
