# Unicorn reads its worker count and preloading from the environment, so one scenario can vary them.
worker_processes Integer(ENV.fetch('WORKERS', '5'))
preload_app ENV['PRELOAD'] == '1'
timeout 60

# PROMOTE=1: before its first fork the master runs full collections until every object is old, as
# Ruby 3.3's Process.warmup does. Ruby 3.1 keeps an object's age in its header, so a collection in a
# worker that ages an object it inherited young writes to that object's page and unshares it.
promoted = false
before_fork do |_server, _worker|
  next if promoted || ENV['PROMOTE'] != '1'

  4.times { GC.start }
  promoted = true
end

# Every worker runs one minor collection as it starts. A worker reaches that state by itself at its
# first collection, after a number of requests that depends on the free slots the master left at the
# fork (here ~650 a worker; on other machines at once): without this the same run reads a preloaded
# worker in one state or the other. docs/method.md has the measurements.
after_fork { |_server, _worker| GC.start(full_mark: false) }
