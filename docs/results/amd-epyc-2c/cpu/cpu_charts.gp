set terminal pngcairo size 900,560
set grid
set key left top
set output 'speedup_vs_cores.png'
set title 'Throughput speedup vs cores (lines beyond 2 cores are projections)'
set xlabel 'cores'
set ylabel 'speedup X(n)/X(1)'
set xrange [1:8]
set yrange [0:*]
plot x with lines dashtype 3 title 'ideal', 'cpu_charts.dat' index 0 using 1:2 with points pt 7 ps 1.5 title 'cpuset measured', 1/(0.0731707317+(1-0.0731707317)/x) with lines title 'cpuset Amdahl s=0.073', 'cpu_charts.dat' index 1 using 1:2 with points pt 7 ps 1.5 title 'quota measured', 1/(0.0476190476+(1-0.0476190476)/x) with lines title 'quota Amdahl s=0.048'
unset xrange
unset yrange
unset title
set output 'latency_vs_threads.png'
set title 'Long-file latency vs --threads, per core count'
set xlabel 'threads per request'
set ylabel 'median latency (s)'
set logscale x 2
plot 'cpu_charts.dat' index 2 using ($1==1?$2:1/0):3 with linespoints title '1 cores', 'cpu_charts.dat' index 2 using ($1==2?$2:1/0):3 with linespoints title '2 cores'
unset logscale x
unset title
set output 'shapes_throughput.png'
set title 'Pod shapes: replicas x cores'
set style data histograms
set style fill solid 0.6
set ylabel 'audio s per s'
set xlabel ''
set yrange [0:*]
plot 'cpu_charts.dat' index 3 using 2:xtic(1) title 'throughput'
unset style
unset yrange
unset title
set style data points
set terminal svg size 900,560 dynamic
set grid
set key left top
set output 'speedup_vs_cores.svg'
set title 'Throughput speedup vs cores (lines beyond 2 cores are projections)'
set xlabel 'cores'
set ylabel 'speedup X(n)/X(1)'
set xrange [1:8]
set yrange [0:*]
plot x with lines dashtype 3 title 'ideal', 'cpu_charts.dat' index 0 using 1:2 with points pt 7 ps 1.5 title 'cpuset measured', 1/(0.0731707317+(1-0.0731707317)/x) with lines title 'cpuset Amdahl s=0.073', 'cpu_charts.dat' index 1 using 1:2 with points pt 7 ps 1.5 title 'quota measured', 1/(0.0476190476+(1-0.0476190476)/x) with lines title 'quota Amdahl s=0.048'
unset xrange
unset yrange
unset title
set output 'latency_vs_threads.svg'
set title 'Long-file latency vs --threads, per core count'
set xlabel 'threads per request'
set ylabel 'median latency (s)'
set logscale x 2
plot 'cpu_charts.dat' index 2 using ($1==1?$2:1/0):3 with linespoints title '1 cores', 'cpu_charts.dat' index 2 using ($1==2?$2:1/0):3 with linespoints title '2 cores'
unset logscale x
unset title
set output 'shapes_throughput.svg'
set title 'Pod shapes: replicas x cores'
set style data histograms
set style fill solid 0.6
set ylabel 'audio s per s'
set xlabel ''
set yrange [0:*]
plot 'cpu_charts.dat' index 3 using 2:xtic(1) title 'throughput'
unset style
unset yrange
unset title
set style data points
