from depthgauge.cli.main import run

run()
