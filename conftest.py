pytest_plugins = ["ktt_common.testing"]
