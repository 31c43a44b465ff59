/* siov-sim's subcommands beside the scenario runner: replay, convert and
   tracegen (docs/tracing.md). Each takes the arguments after its name and
   returns the program's exit status. */
#ifndef SIOV_SIM_TOOLS_H
#define SIOV_SIM_TOOLS_H

int sim_replay_main(int argc, char **argv);
int sim_convert_main(int argc, char **argv);
int sim_tracegen_main(int argc, char **argv);

#endif
