// Hosts the precompiled header every test reuses (see tests/CMakeLists.txt); defines nothing.
