// The README demo function: greets whoever the event names.
export const handler = async (event) => {
  const name = event?.name ?? "world";
  console.log(`greeting ${name}`);
  return { message: `${process.env.GREETING ?? "Hello"}, ${name}!` };
};
