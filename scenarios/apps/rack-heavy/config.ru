# A Rack app with a large footprint loaded at boot, as a real app's code and data are: stdlib
# libraries and a table of 200,000 strings. Each response names the worker that served it.
require 'json'
require 'set'
require 'erb'
require 'yaml'
require 'net/http'

CATALOG = Array.new(200_000) { |i| "item-#{i}-#{'x' * 64}" }.freeze
INDEX = CATALOG.each_with_index.to_h.freeze

run ->(_env) { [204, { 'X-Worker-Pid' => Process.pid.to_s }, []] }
