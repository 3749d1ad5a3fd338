# Charts of load_steps.dat and load_distribution.dat; run from this folder: gnuplot load.gp
set grid
set key top left
set xlabel 'concurrency (requests in flight)'
do for [fmt in 'png svg'] {
  if (fmt eq 'png') { set terminal pngcairo size 900,560 } else { set terminal svg size 900,560 }
  set output 'load_throughput.'.fmt
  set ylabel '2xx throughput (requests/s)'
  set title 'Throughput against offered load (median of windows, 95% interval)'
  plot 'load_steps.dat' using 1:2:3:4 with yerrorlines title 'measured'
  set output 'load_latency.'.fmt
  set ylabel 'latency (s), failures included'
  set title 'Latency against offered load (missing: n too small)'
  plot 'load_steps.dat' using 1:5 with linespoints title 'p50', '' using 1:6:7:8 with yerrorlines title 'p95 (95% interval)', '' using 1:9 with linespoints title 'p99'
  set output 'load_distribution.'.fmt
  set title 'Latency distribution of each step'
  set xlabel 'percentile'
  set ylabel 'latency (s)'
  set logscale y
  set xtics ('0%%' 0, '90%%' 1, '99%%' 2, '99.9%%' 3, '99.99%%' 4)
  plot for [i=0:*] 'load_distribution.dat' index i using 2:3 with linespoints title columnheader(1)
  unset logscale y
  set xtics autofreq
  set xlabel 'concurrency (requests in flight)'
  unset output
}
