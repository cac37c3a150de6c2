/*
 * TEST ONLY (tests/integration/test_failure_texts_in_jars.py): what the pinned Oracle JDBC driver says.
 *
 * Launched as a single source file with the Oracle plugin's jars on the class path. Arguments:
 *   bundle BUNDLE KEY       prints "bundle BUNDLE KEY <the bundle's text>" (one line, newlines as \n)
 *   raise CODE              prints "raise CODE <message>" of the SQLException the driver builds for
 *                           ORA-CODE itself (oracle.jdbc.driver.DatabaseError.createSqlException)
 *   net CODE ARG0 ARG1      prints "net CODE <message>" of oracle.net.ns.NetException(CODE) with its
 *                           bundle arguments (how the driver reports a listener's refusal)
 *   connect HOST PORT SVC   connects with the thin driver and prints "connect <message>" of what it throws
 */

import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Locale;
import java.util.ResourceBundle;

public class OracleDriverTexts {

    public static void main(String[] args) throws Exception {
        for (int i = 0; i < args.length;) {
            switch (args[i]) {
                case "bundle" -> {
                    String text = String.valueOf(ResourceBundle.getBundle(args[i + 1], Locale.ROOT).getObject(args[i + 2]));
                    print("bundle " + args[i + 1] + " " + args[i + 2] + " " + text);
                    i += 3;
                }
                case "raise" -> {
                    SQLException error = (SQLException) Class.forName("oracle.jdbc.driver.DatabaseError")
                            .getMethod("createSqlException", int.class).invoke(null, Integer.parseInt(args[i + 1]));
                    print("raise " + args[i + 1] + " " + error.getMessage());
                    i += 2;
                }
                case "net" -> {
                    Exception error = (Exception) Class.forName("oracle.net.ns.NetException")
                            .getConstructor(int.class, String.class, boolean.class, Object[].class)
                            .newInstance(Integer.parseInt(args[i + 1]), null, false, new Object[]{ args[i + 2], args[i + 3] });
                    print("net " + args[i + 1] + " " + error.getMessage());
                    i += 4;
                }
                case "connect" -> {
                    String url = "jdbc:oracle:thin:@//" + args[i + 1] + ":" + args[i + 2] + "/" + args[i + 3];
                    try {
                        DriverManager.getConnection(url, "c##wms_cdc", "not-a-password").close();
                        print("connect connected");
                    }
                    catch (SQLException error) {
                        print("connect " + error.getMessage());
                    }
                    i += 4;
                }
                default -> throw new IllegalArgumentException("unknown request " + args[i]);
            }
        }
    }

    private static void print(String line) {
        System.out.println(line.replace("\\", "\\\\").replace("\n", "\\n"));
    }
}
