# Unicorn reads its worker count and preloading from the environment, so one scenario can vary them.
worker_processes Integer(ENV.fetch('WORKERS', '5'))
preload_app ENV['PRELOAD'] == '1'
timeout 60
