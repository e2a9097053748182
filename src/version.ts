// The version from package.json; the compiled binary embeds it.
import pkg from "../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
