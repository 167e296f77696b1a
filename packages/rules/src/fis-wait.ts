/**
 * aws:fis:wait — an engine action, not a fault: it writes nothing and only holds back the actions that start
 * after it. FIS's actions reference: "duration – The duration, from one minute to 12 hours."
 */
export const fisWait = {
  id: "aws:fis:wait",
  description: "Runs the AWS FIS wait action.",
  duration: { minMs: 60_000, maxMs: 12 * 3600_000 },
} as const;
