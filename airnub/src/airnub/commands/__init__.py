"""A command of the `airnub` tool as a typed request (`requests`), and its execution (`execution`).

The command line (`airnub.cli`) parses and checks a command once into a request; the request runs here, in the
command's own process or in the warm runner (`airnub.services.warm_runner`), which receives it as JSON. Neither
imports the other: both import this package.
"""
